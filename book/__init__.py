"""`make book`: the course rendered as a static website (build.py, check.py)."""
