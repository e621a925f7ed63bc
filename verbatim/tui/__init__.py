"""The Textual terminal app: the only package of the project that imports textual."""
