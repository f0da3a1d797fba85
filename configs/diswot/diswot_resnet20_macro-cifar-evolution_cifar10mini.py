# Quickstart-size DisWOT macro search on the bundled CIFAR-10 subset: the
# Zen-NAS-style space around CIFAR ResNet-20 (MacroSpace preset
# 'cifar_resnet20': kernels {3,5,7}, widths x{2.5,...,1/2.5} rounded to 8,
# depth +-2 per group, at most 56 layers) for a random ResNet-20 teacher,
# batch 64, population 8, 4 generations of 4 children, worst removal (as
# DisWOT's macro search), params <= 0.3M. Candidate widths differ from the
# teacher's, so the proxy is M_r only (DisWOTMr), as the authors' macro
# search; DisWOT with channel_mismatch='adaptive_avg_pool' is mmkd's option
# to keep M_s.
#     python tools/search.py configs/diswot/diswot_resnet20_macro-cifar-evolution_cifar10mini.py
_base_ = ['./diswot_resnet20_s1-evolution_cifar10mini.py']
train_cfg = dict(
    space=dict(type='MacroSpace', preset='cifar_resnet20', num_classes=10,
               _delete_=True),
    searcher=dict(type='EvolutionSearcher', population_size=8,
                  num_generations=4, children_per_generation=4,
                  tournament_size=3, removal='worst', max_tries=200,
                  _delete_=True),
    proxy=dict(type='DisWOTMr'),
    constraints=dict(max_params=300_000))
