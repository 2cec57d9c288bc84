"""Bidirectional decoding (kexue.fm 6877; Zhou, Zhang and Zong 2019) on toneless pinyin -> Chinese characters.

``pinyin`` reads what a visitor types, ``pairs`` builds the People's Daily clause pairs, ``baselines`` the
two non-neural anchors, ``model`` and ``training`` the Keras seq2seq models, ``decoders`` the four neural
decoders (L2R and R2L beam, synchronous bidirectional beam, R2L reranking), ``scorecard`` the held-out
figures, ``figures`` their pictures.
"""
