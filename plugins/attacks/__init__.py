"""Built-in attacks on an erasure: asking differently, changing the photos, and changing the model."""
