"""Built-in unlearning methods: the PUBG paper's baselines, PUBG itself, and VGID."""
