"""Decoding that never stops (Welleck et al. 2020; kexue.fm 7500): why incomplete decoders can run forever, and
the fixes (consistent top-k / nucleus, a self-terminating output layer).

``processors``: the consistent LogitsProcessors; ``decoders``: decoder specs as ``generate`` settings;
``generation``: decoding with the per-step p(EOS) records; ``models``: SmolLM2, any causal LM and the LSTMs
behind one interface; ``lstm_lm``, ``corpus``, ``training``: the LSTM pair trained here; ``metrics`` and
``table``: loops, seq-rep-4, r_L and the prompt-set table; ``figures``; ``jobs`` and ``cli``.
"""
