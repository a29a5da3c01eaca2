"""Metrics and detectors: plain functions over answers, returning numbers or dicts."""
