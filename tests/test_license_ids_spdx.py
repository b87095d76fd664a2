"""Catalog ids interoperate with SPDX and ScanCode tools: every SPDX-form id is a real SPDX
key and every LicenseRef-scancode-* id a real ScanCode key, checked against the indexes
license-expression bundles (the library ScanCode and ORT build on)."""

from license_expression import get_scancode_licensing, get_spdx_licensing

from modelclear.analyzers.license.catalog import load_catalog

#: Keys newer than license-expression 30.4's bundled index (SPDX 3.2x / ScanCode 32.x);
#: each appears in the shared corpus manifest's expected_ids.
NEWER_THAN_INDEX = {
    "CreativeML-OpenRAIL-M",
    "LicenseRef-scancode-gemma-pup-2024-02-21",
    "LicenseRef-scancode-gemma-tou-2025-03-24",
    "LicenseRef-scancode-moonshot-ai-modified-mit-2025",
}


def test_catalog_ids_are_known_spdx_or_scancode_keys():
    spdx, scancode = get_spdx_licensing(), get_scancode_licensing()
    ids = [e.id for e in load_catalog().entries]
    assert {"MIT", "Apache-2.0", "CC-BY-NC-4.0", "GPL-3.0-only"} <= set(ids)
    unknown = []
    for lid in ids:
        if lid.startswith("LicenseRef-modelclear-") or lid in NEWER_THAN_INDEX:
            continue
        if lid.startswith("LicenseRef-scancode-"):
            errors = scancode.validate(lid.removeprefix("LicenseRef-scancode-")).errors
        else:
            assert not lid.startswith("LicenseRef-"), lid
            errors = spdx.validate(lid).errors
        if errors:
            unknown.append(lid)
    assert not unknown
