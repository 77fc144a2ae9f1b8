"""Finger positions (ISO/IEC 19794-4) as officers name them."""

FINGER_NAMES = {1: "right thumb", 2: "right index", 3: "right middle", 4: "right ring",
                5: "right little", 6: "left thumb", 7: "left index", 8: "left middle",
                9: "left ring", 10: "left little"}
FINGER_NAMES_ID = {1: "ibu jari kanan", 2: "telunjuk kanan", 3: "jari tengah kanan",
                   4: "jari manis kanan", 5: "kelingking kanan", 6: "ibu jari kiri",
                   7: "telunjuk kiri", 8: "jari tengah kiri", 9: "jari manis kiri",
                   10: "kelingking kiri"}
