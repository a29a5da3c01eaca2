"""The plugin host: hook specifications and the plugin manager that loads built-in and third-party plugins alike."""
