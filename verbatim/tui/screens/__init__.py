"""The app's screens: study home, record, jobs, editor, lists, help and dialogs."""
