"""Identity documents: KTP, birth certificate (akta kelahiran) and MRZ readers; NIK decoding.

The public surface:

    reader.read_document(rgb, kind, detector, recogniser)           find, rectify, read
    reader.extract_portrait(rgb, kind) / reader.portrait_box(kind)  the holder's photo
    item.analyse_document(image, kind, models, config)              the counter session's call
    nik.decode_nik(nik) -> NikInfo                                  never raises
    mrz.parse_mrz(lines) -> MrzData                                 TD1 / TD2 / TD3 / visas
    words.words_to_date(text)                                       "tujuh belas Agustus ..."
    textrec.recognise_line(recogniser, grey)                        PP-OCR's line recogniser
"""
