"""Every passport-photo requirement by name. A profile (verifier/config.py) lists the ones it
checks, in priority order."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from verifier.photo import (background, expression, face_features, framing, geometry,
                            image_format, image_quality, lighting, pose)
from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import CheckSettings, RequirementResult

Requirement = Callable[[PhotoAnalysis, CheckSettings], RequirementResult]

REQUIREMENTS: Mapping[str, Requirement] = {
    "image_format": image_format.image_format,
    "single_face": framing.single_face,
    "face_size": framing.face_size,
    "face_centred": framing.face_centred,
    "crop_room": framing.crop_room,
    "head_size": geometry.head_size,
    "eye_height": geometry.eye_height,
    "inter_eye_distance": geometry.inter_eye_distance,
    "roll": pose.roll,
    "yaw": pose.yaw,
    "pitch": pose.pitch,
    "head_covering": face_features.head_covering,
    "eyes_open": expression.eyes_open,
    "mouth_closed": expression.mouth_closed,
    "neutral_expression": expression.neutral_expression,
    "glasses": face_features.glasses,
    "glasses_glare": face_features.glasses_glare,
    "red_eye": face_features.red_eye,
    "background": background.background,
    "illumination": lighting.illumination,
    "exposure": lighting.exposure,
    "sharpness": image_quality.sharpness,
    "natural_colour": image_quality.natural_colour,
    "compression": image_quality.compression,
}
