"""Shared paths and constants for the training pipeline (see README.md)."""
import os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
WORK = os.environ.get('SPECEXEC_TRAIN_WORK', os.path.join(HERE, 'work'))
LLAMA_CPP_SRC = os.environ.get('LLAMA_CPP_SRC', os.path.join(REPO, 'build', 'llama.cpp'))
VOCAB_GGUF = os.path.join(LLAMA_CPP_SRC, 'models', 'ggml-vocab-deepseek-coder.gguf')
CORPUS = os.path.join(WORK, 'corpus')
TOK = os.path.join(WORK, 'tok')
CKPT = os.path.join(WORK, 'ckpt')
LANGS = ['py', 'ts', 'js', 'c', 'cpp']

# deepseek-coder special tokens (checked against the vocab by check_vocab())
BOS, EOS = 32013, 32014
FIM_PRE, FIM_SUF, FIM_MID = 32016, 32015, 32017


def gguf_module():
    p = os.path.join(LLAMA_CPP_SRC, 'gguf-py')
    if not os.path.isdir(p):
        sys.exit(f'gguf-py not found at {p}: set LLAMA_CPP_SRC to the pinned llama.cpp source')
    if p not in sys.path:
        sys.path.insert(0, p)
    import gguf
    return gguf


def check_vocab():
    """Assert that the special-token ids above are what the vocab GGUF says."""
    gguf = gguf_module()
    r = gguf.GGUFReader(VOCAB_GGUF)
    toks = r.fields['tokenizer.ggml.tokens'].contents()
    want = {BOS: '<｜begin▁of▁sentence｜>', EOS: '<｜end▁of▁sentence｜>',
            FIM_PRE: '<｜fim▁begin｜>', FIM_SUF: '<｜fim▁hole｜>', FIM_MID: '<｜fim▁end｜>'}
    for i, s in want.items():
        assert toks[i] == s, (i, toks[i], s)
    bos = r.fields['tokenizer.ggml.bos_token_id'].contents()
    eos = r.fields['tokenizer.ggml.eos_token_id'].contents()
    assert (bos, eos) == (BOS, EOS), (bos, eos)
    return len(toks)


if __name__ == '__main__':
    print('vocab size', check_vocab(), 'special ids OK')
