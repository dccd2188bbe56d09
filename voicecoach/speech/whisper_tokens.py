"""Whisper's tokens: the model folder's tokenizer.json (Hugging Face `tokenizers`) and the special tokens
that start a transcription, as faster-whisper's Tokenizer gives them for English transcription."""

from __future__ import annotations

from pathlib import Path


class WhisperTokens:
    """Text to token ids and back, and the special tokens the decoder is started with."""

    def __init__(self, tokenizer_file: Path, multilingual: bool) -> None:
        import tokenizers

        self._tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        self.sot = self._special("<|startoftranscript|>")
        self.sot_prev = self._special("<|startofprev|>")
        self.eot = self._special("<|endoftext|>")
        self.no_timestamps = self._special("<|notimestamps|>")
        # a multilingual model is told the language and the task; an English-only model needs neither
        extra = [self._special("<|en|>"), self._special("<|transcribe|>")] if multilingual else []
        self.sot_sequence = [self.sot, *extra]

    def _special(self, token: str) -> int:
        found = self._tokenizer.token_to_id(token)
        if found is None:
            raise ValueError(f"the tokenizer has no {token}")
        return found

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        """The text of the ids, special tokens (end of text and above) left out."""
        return self._tokenizer.decode([i for i in ids if i < self.eot])
