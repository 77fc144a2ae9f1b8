"""Liveness at the counter: presentation attack detection (PAD, ISO/IEC 30107 vocabulary).

A session's challenge (`challenge`) is a short random sequence of actions the applicant is
asked to perform in front of the camera; each analysed frame yields a few measures
(`measures`: eye openness, yaw, inter-eye distance, and the passive cues of `passive`);
`judge` decides from the measures of the session's frames whether each action was seen in
time and in order and whether the frames look like a live face rather than a print, a
screen or a mask. `session` keeps the challenge and the measures in the stored frame
results, so any verifier replica can continue a session another one started.
"""
