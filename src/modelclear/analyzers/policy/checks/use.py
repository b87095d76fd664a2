"""What the license lets you do: commercial use, derivatives, outputs, competing services,
and the use policy it binds you to.

Each compares a grant with what the profile plans (``use``, ``needs``): a
restriction the profile does not run into is CLEAR with the license's position in
the reason, so a reviewer can see it was read, not skipped.
"""

from __future__ import annotations

import re

from ..model import EvidenceRef, Status
from .clauses import ev, stated, text, value
from .registry import CheckContext, Report, check


@check("MC500", "commercial-use", order=50, needs_license=True)
def commercial(ctx: CheckContext, out: Report) -> None:
    """Commercial use — internal business use included — against the license grant."""
    lic, profile = ctx.license, ctx.profile
    term = lic.terms.get("commercial_use")
    v = value(term)
    evidence = ev(term, lic)
    if not profile.is_commercial:
        out.add(Status.CLEAR, f"the profile's use ({', '.join(profile.use)}) is not commercial; "
                f"license says commercial use: {v or 'not stated'}", evidence)
    elif v == "yes":
        out.add(Status.CLEAR, "the license permits commercial use", evidence)
    elif v == "no" and lic.id in profile.rules.registered:
        out.add(Status.CLEAR, f"the license is non-commercial, but the profile records a "
                f"separate grant for {lic.id} (rules.registered)", evidence)
    elif v == "no":
        out.add(Status.BLOCKED, f"the license does not permit commercial use, and the profile's "
                f"use ({', '.join(profile.use)}) is commercial — internal business use included",
                evidence)
    elif v == "conditional":
        conditions = [k for k in ("mau_threshold", "other_scale_threshold",
                                  "requires_registration_or_approval")
                      if value(lic.terms.get(k)) not in (None, "no")]
        if conditions:
            out.add(Status.CLEAR, "commercial use is permitted on conditions, each checked "
                    "below (" + ", ".join(c.replace("_", " ") for c in conditions) + ")",
                    evidence)
        else:
            out.add(Status.REVIEW, "commercial use is permitted on conditions the analysis "
                    "could not itemise; read the clause", evidence)
    else:
        out.add(Status.REVIEW, f"the license's position on commercial use is "
                f"{v or 'not stated'}", evidence)


@check("MC504", "fine-tuning", order=90, needs_license=True)
def fine_tuning(ctx: CheckContext, out: Report) -> None:
    """Derivative works (fine-tuning, modified architecture) when the profile makes them."""
    lic, profile = ctx.license, ctx.profile
    term = lic.terms.get("fine_tuning_allowed")
    v = value(term)
    evidence = ev(term, lic)
    if not (profile.needs.fine_tune or profile.needs.modify_architecture):
        out.add(Status.CLEAR, f"the profile does not modify the model; license says "
                f"fine-tuning: {v or 'not stated'}", evidence)
    elif v == "yes":
        out.add(Status.CLEAR, "the license permits derivative works (fine-tuning, "
                "modification)", evidence)
    elif v == "no":
        out.add(Status.BLOCKED, "the profile needs to fine-tune or modify the model and the "
                "license does not permit derivative works", evidence)
    else:
        out.add(Status.REVIEW, f"the profile needs to fine-tune or modify the model; the "
                f"license's position is {v or 'not stated'}", evidence)


@check("MC505", "output-use", order=100, needs_license=True)
def output_use(ctx: CheckContext, out: Report) -> None:
    """Outputs used to train other models (distillation), against the license's position."""
    lic = ctx.license
    term = lic.terms.get("use_outputs_to_train_other_models")
    v = value(term)
    evidence = ev(term, lic)
    if v == "prohibited":
        out.oblige("Do not use the model or its outputs to train or improve other models", True,
                   "the license forbids it", evidence)
    if not ctx.profile.trains_on_outputs:
        out.add(Status.CLEAR, f"the profile does not train other models on outputs; license "
                f"says: {v or 'not stated'}", evidence)
    elif v == "prohibited":
        out.add(Status.BLOCKED, "the profile uses outputs to train another model (distillation) "
                "and the license prohibits using its outputs to improve other models", evidence)
    elif v == "restricted":
        out.add(Status.REVIEW, "the license restricts how outputs may be used to train other "
                "models; read the clause against the distillation plan", evidence)
    elif v == "allowed":
        out.add(Status.CLEAR, "the license expressly allows using outputs to train other models "
                "(with its naming and attribution duties)", evidence)
    elif v in (None, "unmentioned"):
        out.add(Status.CLEAR, "the license places no restriction on using outputs", evidence)
    else:
        out.add(Status.REVIEW, f"use of outputs to train other models: {v}", evidence)


@check("MC509", "competing-service", order=140, needs_license=True)
def competing(ctx: CheckContext, out: Report) -> None:
    """A bar on competing services: whether the profile's use competes needs a reader."""
    lic, profile = ctx.license, ctx.profile
    term = stated(lic, "competing_service_restriction")
    if term is None:
        return
    evidence = ev(term, lic)
    if profile.third_party:
        out.add(Status.REVIEW, f"the license restricts competing products or services "
                f"({term.value}); decide whether the profile's use ({', '.join(profile.use)}) "
                "competes", evidence)
    else:
        out.add(Status.CLEAR, "the license restricts competing services; the profile's use is "
                "internal", evidence)
        out.oblige(f"Do not use the model to offer a competing service: {term.value}", True,
                   "the license's competing-service clause", evidence)


@check("MC510", "acceptable-use", order=150, needs_license=True)
def acceptable_use(ctx: CheckContext, out: Report) -> None:
    """A use policy incorporated by reference can change after clearance; one in the text
    cannot, so it becomes obligations."""
    lic, profile = ctx.license, ctx.profile
    term = lic.terms.get("acceptable_use_policy")
    evidence = list(ev(term, lic))
    by_ref = list(lic.incorporates)
    referenced = bool(by_ref) or bool(re.search(r"by reference|available at", text(term).lower()))
    docs = ctx.inputs.license.licenses if ctx.inputs.license is not None else ()
    policies = [m for m in docs if m.kind == "acceptable-use-policy"]
    for p in policies:
        evidence.append(EvidenceRef(source="acceptable-use-policy", file=p.file,
                                    line=p.line_start, line_end=p.line_end,
                                    note=f"{p.title} ({p.match} match)"))
    if referenced:
        names = ", ".join(i.title + (f" <{i.url}>" if i.url else "") for i in by_ref) or \
            "a policy published separately"
        changes = any(i.can_change_without_notice for i in by_ref)
        shipped = " A copy ships with the release." if policies else ""
        out.add(Status.REVIEW, f"the license incorporates by reference {names}"
                + (", which the publisher may change" if changes or not by_ref else "")
                + "; read its prohibited uses against the profile's use." + shipped, evidence)
        out.oblige("Follow the current acceptable-use policy and re-check it when it changes",
                   True, "incorporated by reference into the license", evidence)
    elif value(term) == "yes":
        out.add(Status.CLEAR, "the license lists use restrictions in its own text (no policy "
                "incorporated by reference); they are listed as obligations", evidence)
        out.oblige("Respect the use restrictions written in the license", True,
                   "use-based restrictions in the license text", evidence)
        if value(lic.terms.get("redistribution_conditions")) and "enforceable" in (
            text(lic.terms.get("redistribution_conditions")).lower()
        ):
            out.oblige("Pass the use restrictions on as an enforceable term to anyone you give "
                       "the model or a derivative to", profile.distributes or
                       profile.third_party, "when you distribute or host the model for others",
                       evidence)
    else:
        out.add(Status.CLEAR, "no acceptable-use policy", evidence)
