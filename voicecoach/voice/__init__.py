"""Speech output: sentence chunking, pyttsx3/espeak-ng synthesis, speakers (sound device, WAV file, text)
and audio export of a guide. Start with `open_speaker` (factory) and the `Speaker` protocol (speaker)."""
