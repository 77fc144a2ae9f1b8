"""Identity documents: KTP, birth certificate, MRZ readers; NIK decoding."""
