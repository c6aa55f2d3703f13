"""Patching and updates (F4): one model over the API's three generations of
hotfixes, the actions on them, the compliance baseline and the resumable
rolling pool update."""
