"""Repair issues: what voice_mqtt tells the user to look at.

- catalog: every issue's id and kind, and the one way to raise and clear them
- traffic: the voice traffic's issues, on another topic version or gone silent

The fix flow of the version issue is in repairs.py, where Home Assistant looks.
"""
