"""Finger positions (ISO/IEC 19794-4) as officers name them."""

FINGER_NAMES = {1: "right thumb", 2: "right index finger", 3: "right middle finger",
                4: "right ring finger", 5: "right little finger", 6: "left thumb",
                7: "left index finger", 8: "left middle finger", 9: "left ring finger",
                10: "left little finger"}
FINGER_NAMES_ID = {1: "ibu jari kanan", 2: "telunjuk kanan", 3: "jari tengah kanan",
                   4: "jari manis kanan", 5: "kelingking kanan", 6: "ibu jari kiri",
                   7: "telunjuk kiri", 8: "jari tengah kiri", 9: "jari manis kiri",
                   10: "kelingking kiri"}
