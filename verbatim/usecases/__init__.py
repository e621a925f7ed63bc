"""The use-case room: every action on a study, for both doors (the CLI and the app).

Each use case takes plain values (an open ``Study``, ids, paths, options), reports
progress through one callback type (``verbatim.usecases.progress.Report``) and
returns a small result dataclass. The CLI commands and the Textual screens only
gather input, call a use case and show its result; neither keeps a copy of a flow.
Refusals are ``StudyError`` (one line a user can act on). Nothing here imports
textual or argparse.
"""
