"""shared.llm: left padding and positions, single-token answers, the 4-bit fallback, and an adapter folder that
loads offline with its tiny base copied in."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from shared import llm
from shared.tiny import resolve_backbone

TEXTS = ["Question: is it true? Answer: Yes", "Answer: No, it is not.", "Options A B C D E follow."] * 8


@pytest.fixture(scope="module")
def tiny():
    path = resolve_backbone("tiny:qwen2", TEXTS)
    return path, llm.ensure_padding(AutoTokenizer.from_pretrained(path))


def test_pad_left_and_positions_start_at_each_rows_first_token():
    ids, mask = llm.pad_left([[5, 6, 7], [9]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 9]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert llm.positions(mask).tolist() == [[0, 1, 2], [0, 0, 0]]


def test_left_padding_does_not_change_the_last_tokens_logits(tiny):
    path, tokenizer = tiny
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    short, long = tokenizer.encode("Answer: Yes"), tokenizer.encode("Question: is it true? Answer: No")
    ids, mask = llm.pad_left([short, long], tokenizer.pad_token_id)
    with torch.no_grad():
        batched = model(input_ids=ids, attention_mask=mask, position_ids=llm.positions(mask)).logits[:, -1]
        alone = model(input_ids=torch.tensor([short])).logits[:, -1]
    torch.testing.assert_close(batched[0], alone[0], atol=1e-5, rtol=1e-4)


def test_token_logprobs_equal_log_softmax():
    logits = torch.randn(3, 4, 11)
    targets = torch.randint(0, 11, (3, 4))
    expected = logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(llm.token_logprobs(logits, targets), expected)


def test_answer_token_ids_are_single_distinct_tokens_or_an_error(tiny):
    _, tokenizer = tiny
    ids = llm.answer_token_ids(tokenizer, "Answer:", ["Yes", "No"])
    assert len(set(ids)) == 2
    assert [tokenizer.decode([i]).strip() for i in ids] == ["Yes", "No"]
    with pytest.raises(ValueError, match="not single tokens after 'Answer:'"):
        llm.answer_token_ids(tokenizer, "Answer:", ["Yes", "Absolutely-never-seen-word"])


def test_4bit_without_cuda_falls_back_with_a_warning(tiny):
    path, _ = tiny
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the NF4 path is taken")
    with pytest.warns(UserWarning, match="load_in_4bit: no CUDA device"):
        model = llm.load_base(path, load_in_4bit=True, bf16=True)
    assert next(model.parameters()).dtype == torch.float32


def test_adapter_folder_loads_offline_with_the_tiny_base_copied_in(tiny, tmp_path):
    path, tokenizer = tiny
    base = llm.load_base(path, load_in_4bit=False, bf16=False)
    model = llm.add_lora(base, r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"])
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    with torch.no_grad():  # move the adapters off their zero start so the round trip is not trivially equal
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_()
    settings = {"base": path, "load_in_4bit": False, "bf16": False, "attn_implementation": "sdpa", "k": 3}
    llm.save_adapter(model, tokenizer, tmp_path / "m", settings, settings_file="s.json")
    again, tok, loaded = llm.load_adapter(tmp_path / "m", settings_file="s.json", owner="a test")
    assert loaded["base"] == str(tmp_path / "m" / llm.BASE) and loaded["k"] == 3
    ids = torch.tensor([tok.encode("Answer: Yes")])
    with torch.no_grad():
        torch.testing.assert_close(again(input_ids=ids).logits, model.eval()(input_ids=ids).logits)
    with pytest.raises(FileNotFoundError, match="not a model saved by a test"):
        llm.load_adapter(tmp_path, settings_file="s.json", owner="a test")
