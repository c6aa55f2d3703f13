"""Several pools in one console: the fleet (a file for scripts, or the saved
targets of a group), the checks run over it in parallel, and the overview's
model. No Textual."""
