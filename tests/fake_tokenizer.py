"""A character-level tokenizer with the slice of the Hugging Face interface selbench uses."""


class CharTokenizer:
    chat_template = None
    eos_token = "\x03"
    pad_token = "\x00"
    pad_token_id = 0
    eos_token_id = 3

    def __call__(self, texts, add_special_tokens=False):
        if isinstance(texts, str):
            return {"input_ids": [ord(c) for c in texts]}
        return {"input_ids": [[ord(c) for c in t] for t in texts]}

    def decode(self, ids):
        return "".join(chr(i) for i in ids)
