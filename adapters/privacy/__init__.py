"""Personal data: sealed per customer at rest, revealed or masked by role, erasable.

DESIGN.md "Privacy": personal fields are encrypted with a key per customer; erasing the
customer deletes the key, so the stored events stay and the fields become unreadable
everywhere ("erased"). Analysts see masked values (R-CUS-04).
"""
