"""The interactive shell: the host prompt and the destconfig menu."""
