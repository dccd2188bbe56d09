"""`python -m voicecoach` runs the command-line interface."""

from voicecoach.cli import main

raise SystemExit(main())
