"""Model loading, prompt encoding and generation: everything that touches transformers."""
