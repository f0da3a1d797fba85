"""weights_only loading: mmengine checkpoints load, code never runs."""
import io
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from mmkd.utils.checkpoint import (extract_state_dict, load_checkpoint_file,
                                   register_safe_globals)


def test_mmengine_style_checkpoint_loads(tmp_path):
    hub = MessageHub.get_instance('test_ckpt')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/lr', np.float64(0.1))
    path = tmp_path / 'c.pth'
    torch.save(dict(meta=dict(message_hub=hub.state_dict(),
                              rng=np.random.get_state(), seed=3),
                    state_dict={'w': torch.ones(2)},
                    param_schedulers=[dict(milestones=__import__(
                        'collections').Counter([1, 2]))]), path)
    ckpt = load_checkpoint_file(str(path))
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))
    buf = ckpt['meta']['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer) and buf.current() == 1.5


class _RunsCode:

    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null', ))


def test_pickle_that_runs_code_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _RunsCode()}, path)
    with pytest.raises(RuntimeError, match='holds objects that mmkd does '
                       'not load'):
        load_checkpoint_file(str(path))


def test_getattr_is_restricted_to_history_buffer_methods():
    register_safe_globals()

    class _Getattr:

        def __init__(self, obj, name):
            self.args = (obj, name)

        def __reduce__(self):
            return (getattr, self.args)

    ok = io.BytesIO()
    torch.save({'f': _Getattr(HistoryBuffer, 'mean')}, ok)
    ok.seek(0)
    assert torch.load(ok, weights_only=True)['f'] is HistoryBuffer.mean
    for obj, name in [(HistoryBuffer, '__init__'), (np.ndarray, 'tofile')]:
        bad = io.BytesIO()
        torch.save({'f': _Getattr(obj, name)}, bad)
        bad.seek(0)
        with pytest.raises(pickle.UnpicklingError):
            torch.load(bad, weights_only=True)


def test_extract_state_dict_forms():
    sd = {'a': torch.zeros(1)}
    assert extract_state_dict(sd) == sd
    assert extract_state_dict({'state_dict': sd, 'meta': {}}) == sd
    assert extract_state_dict({'model': sd}) == sd
    both = {'student.a': torch.ones(1), 'teacher.a': torch.zeros(1)}
    assert list(extract_state_dict(both, prefix='student.')) == ['a']
    with pytest.raises(RuntimeError, match='not a dict'):
        extract_state_dict([1, 2])
