"""Game day mode: a live console, faults by hand, a drill record, replay.

- grammar.py: the command line (parsing, completion) over the running stack's names
- live.py: the live model the console and the web view draw, fed once a second
- session.py: the game day itself (stack, load, faults, tick, cleanup)
- record.py: cued phases, hypotheses, recovery, and the written record
- console.py: the Textual console; web.py + page.html: the read-only web view
- main.py: start to record on every exit path; replay.py: journal -> scenario
"""
