"""The heads' logits and losses: the KL term against a hand computation, the generation loss masked to the
answer token, the classifier reading each row's last real token under left padding."""

import math

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from shared.llm import pad_left
from shared.tiny import tiny_causal_lm
from wsdm.heads import distillation_loss, forward, hard_loss

TEXTS = ["User prompt: what is the capital of France? Response A: Paris. Response B: Lyon. Answer: A B"] * 8


@pytest.fixture(scope="module")
def tiny():
    path = tiny_causal_lm(TEXTS, vocab_size=300)
    return str(path), AutoTokenizer.from_pretrained(path)


def masked_labels(prompt_ids, answer_id):
    """The generation head in Hugging Face's causal-LM form: the prompt then the answer, every label -100 but
    the answer's."""
    return [*prompt_ids, answer_id], [-100] * len(prompt_ids) + [answer_id]


def softmax(values):
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]


def test_kl_term_equals_a_hand_computation():
    student = torch.tensor([[2.0, 0.0], [-1.0, 0.5]])
    teacher = torch.tensor([0.8, 0.3])
    t = 2.0
    expected = 0.0
    for logits, p in zip(student.tolist(), teacher.tolist(), strict=True):
        target = softmax([math.log(p) / t, math.log(1 - p) / t])
        student_t = softmax([v / t for v in logits])
        expected += sum(q * math.log(q / s) for q, s in zip(target, student_t, strict=True))
    expected = expected / 2 * t**2
    assert distillation_loss(student, teacher, t).item() == pytest.approx(expected, rel=1e-5)
    # the teacher's own distribution (at any temperature) is the minimum: zero loss
    own = torch.stack([teacher.log(), (1 - teacher).log()], -1)
    assert distillation_loss(own, teacher, t).item() == pytest.approx(0.0, abs=1e-6)


def test_kl_gradient_reaches_the_student_only():
    student = torch.tensor([[2.0, 0.0], [-1.0, 0.5]], requires_grad=True)
    teacher = torch.tensor([0.8, 0.3], requires_grad=True)
    t = 2.0
    distillation_loss(student, teacher, t).backward()
    assert teacher.grad is None
    # d/ds of T^2 * mean KL(q_T || softmax(s / T)) = T * (softmax(s / T) - q_T) / n
    q = torch.softmax(torch.stack([teacher.log(), (1 - teacher).log()], -1).detach() / t, -1)
    expected = t * (torch.softmax(student.detach() / t, -1) - q) / 2
    assert torch.allclose(student.grad, expected, atol=1e-6)


def test_generation_loss_is_the_lm_loss_masked_to_the_answer_token(tiny):
    path, tokenizer = tiny
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    a, b = tokenizer.convert_tokens_to_ids(["A", "B"])
    prompts = [
        tokenizer.encode("User prompt: what is the capital? Answer:"),
        tokenizer.encode("Response B: Lyon. Answer:"),
    ]
    labels = torch.tensor([1, 0])  # B, then A
    ids, mask = pad_left(prompts, tokenizer.pad_token_id)
    pair, vocab = forward(model, "generation", ids, mask, (a, b))
    loss = hard_loss("generation", pair, vocab, labels, (a, b))
    reference = []
    for prompt, label in zip(prompts, labels.tolist(), strict=True):
        full, target = masked_labels(prompt, (a, b)[label])
        assert target[:-1] == [-100] * len(prompt) and target[-1] == (a, b)[label]
        out = model(input_ids=torch.tensor([full]), labels=torch.tensor([target]))
        reference.append(out.loss)
    assert loss.item() == pytest.approx(torch.stack(reference).mean().item(), rel=1e-5)
    # the pair logits are the answer tokens' vocabulary logits
    assert torch.equal(pair, vocab[:, [a, b]])


def test_classifier_reads_the_last_real_token_under_left_padding(tiny):
    path, tokenizer = tiny
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=2, pad_token_id=tokenizer.pad_token_id
    )
    model.eval()
    rows = [
        tokenizer.encode("Response A: Paris."),
        tokenizer.encode("User prompt: what is the capital of France?"),
    ]
    ids, mask = pad_left(rows, tokenizer.pad_token_id)
    pair, vocab = forward(model, "classification", ids, mask, None)
    assert vocab is None and pair.shape == (2, 2)
    for i, row in enumerate(rows):
        alone, _ = forward(
            model, "classification", torch.tensor([row]), torch.ones(1, len(row), dtype=torch.long), None
        )
        assert torch.allclose(pair[i], alone[0], atol=1e-5)
    labels = torch.tensor([0, 1])
    assert hard_loss("classification", pair, None, labels, None).item() == pytest.approx(
        torch.nn.functional.cross_entropy(pair, labels).item()
    )
