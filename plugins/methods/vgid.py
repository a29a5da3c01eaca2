"""VGID (visual-noise guided in-context distillation): KL(teacher || student) on the forget
samples, where the teacher is the frozen base model shown a noised image (and, as in the paper
but not its released code, an in-context unlearning prompt)."""

from typing import Literal

from pydantic import Field, model_validator

from forgetctl.host.hookspecs import hookimpl
from forgetctl.methods import MethodOptions, UnlearningMethod
from forgetctl.prompts import with_in_context_prompt


class VisualNoiseDistillation(UnlearningMethod):
    name = "vgid"
    learning_rates = {"default": 1e-4, "tiny": 5e-4}

    class Options(MethodOptions):
        noise: Literal["uniform", "gaussian"] = Field("uniform", description="replace the image, or add noise")
        noise_std: float = Field(1.0, gt=0, description="standard deviation of gaussian noise")
        in_context: bool = Field(True, description="teacher also gets the in-context unlearning prompt")
        answer_only: bool = Field(True, description="KL on answer tokens only (else every position)")

        @model_validator(mode="after")
        def positions_align(self):
            if self.in_context and not self.answer_only:
                # With an in-context prompt the teacher's prompt is longer: only answer positions align.
                raise ValueError("answer_only=false needs in_context=false (the prompts differ in length)")
            return self

    def _noised(self, pixel_values):
        import torch  # only when training

        if self.options.noise == "uniform":  # what the public code does: replace the image by noise
            return torch.rand_like(pixel_values)
        return pixel_values + self.options.noise_std * torch.randn_like(pixel_values)

    def loss(self, ctx, forget):
        from forgetctl.engine.losses import answer_logits, kl_to_teacher  # torch: only when training

        student_batch = ctx.encode_examples(forget)
        in_context = self.options.in_context
        questions = [with_in_context_prompt(e.question) if in_context else e.question for e in forget]
        teacher_batch = ctx.encode([e.image for e in forget], questions, [e.answer for e in forget])
        teacher_batch["pixel_values"] = self._noised(teacher_batch["pixel_values"])
        with ctx.reference() as base:
            teacher_logits, _, teacher_mask = answer_logits(base, teacher_batch)
        student_logits, _, student_mask = answer_logits(ctx.model, student_batch)
        if self.options.answer_only:
            return kl_to_teacher(student_logits[student_mask], teacher_logits[teacher_mask], slice(None))
        positions = student_batch["attention_mask"][:, 1:].bool()
        return kl_to_teacher(student_logits, teacher_logits, positions)


@hookimpl
def register_methods(register):
    register(VisualNoiseDistillation)
