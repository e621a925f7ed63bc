"""One module per room, each answering the CLI verbs of that room.

capture_cmds: record, recover        transcribe_cmds: transcribe (files), models
export_cmds: export (files)          study_cmds: study, participant, interview,
tui_cmds: the terminal app             lock, note, extract, pack, and
                                       transcribe/export of an interview id
"""
