"""The organism's tokenizer (word-level, trained with `tokenizers`) and its small Llama."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagelens.organism.data import ASSISTANT, BOS, CHAT_TEMPLATE, EOS, USER
from stagelens.records import StrictModel

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

PAD, UNK = "<pad>", "<unk>"
SPECIAL_TOKENS = [PAD, UNK, BOS, EOS, USER, ASSISTANT]


class ModelShape(StrictModel):
    """The organism's Llama: widths, depth, heads and context length (part of the cache key)."""

    hidden_size: int = 96
    intermediate_size: int = 256
    num_hidden_layers: int = 3
    num_attention_heads: int = 4
    max_position_embeddings: int = 64


def train_tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token=UNK))
    # whitespace split alone keeps "<user>" whole; the corpus separates punctuation already
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # special tokens are reserved by the trainer; counting them as words too gives them two ids
    words = (" ".join(w for w in t.split() if w not in SPECIAL_TOKENS) for t in texts)
    tok.train_from_iterator(words, trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=[USER, ASSISTANT],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = ModelShape().max_position_embeddings
    return fast


def build_model(
    tokenizer: PreTrainedTokenizerFast, shape: ModelShape, seed: int
) -> LlamaForCausalLM:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_attention_heads,
        max_position_embeddings=shape.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model
