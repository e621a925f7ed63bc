"""The application: the study store (SQLite), the CLI and the Textual UI.

The only package that imports textual, and only inside ``verbatim.tui``.
"""
