"""Attacks that ask differently: held-out phrasings, other languages, jailbreak prefixes, and the
text-only route (the person's name, no photo)."""

from forgetctl.attacks import Attack, PerPhoto
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import HELD_OUT_QUESTIONS, IDENTITY_QUESTIONS, JAILBREAK_PREFIXES, OTHER_LANGUAGES, TEXT_ONLY_QUESTIONS


class Phrasings(Attack):
    name = "phrasings"
    label = "held-out phrasings, direct and indirect"
    Options = PerPhoto

    def probes(self, target, split):
        questions = HELD_OUT_QUESTIONS[: self.options.per_photo]
        return [(photo.image, q) for photo in target.photos[split] for q in questions]


class Languages(Attack):
    name = "languages"
    label = "identity questions in German, French, Spanish, Italian and Portuguese"

    def probes(self, target, split):
        return [(photo.image, q) for photo in target.photos[split] for qs in OTHER_LANGUAGES.values() for q in qs]


class Jailbreak(Attack):
    name = "jailbreak"
    label = "role-play, debug-mode and instruction-override prefixes"
    Options = PerPhoto

    def probes(self, target, split):
        questions = IDENTITY_QUESTIONS[: self.options.per_photo or 3]
        return [(photo.image, prefix + q) for photo in target.photos[split] for prefix in JAILBREAK_PREFIXES for q in questions]


class TextOnly(Attack):
    name = "text-only"
    label = "questions that name the person, with no photo"
    says_the_name = True

    def probes(self, target, split):
        if split != "seen":  # no photo is shown: one set of questions per person
            return []
        return [(None, q.format(name=target.name)) for q in TEXT_ONLY_QUESTIONS]


@hookimpl
def register_attacks(register):
    for attack in (Phrasings, Languages, Jailbreak, TextOnly):
        register(attack)
