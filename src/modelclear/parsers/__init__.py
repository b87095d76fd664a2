"""Bounded parsers of our own for weight formats.

We write these rather than call ``safetensors``/``gguf``/``torch`` because those
libraries trust declared lengths, allocate before checking, or execute pickles;
ours check every length against the file size first and never read tensor data.
"""
