"""Built-in judges: the paper's rubrics through a local Ollama server, and an offline judge grounded in the run."""
