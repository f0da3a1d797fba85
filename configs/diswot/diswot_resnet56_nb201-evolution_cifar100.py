# DisWOT on the NAS-Bench-201 cell space (15,625 cells, C=16, N=5): the
# authors' NB201 variant, regularised (aging) evolution with population 36
# and tournament 8 (the parent is the best of the tournament), one child per
# cycle, 500 candidates, for a random CIFAR ResNet-56 teacher on one batch of
# 128 CIFAR-100 images. Candidates are named by their official NB201 arch
# strings, so results can be looked up in the benchmark's tables.
#     python tools/search.py configs/diswot/diswot_resnet56_nb201-evolution_cifar100.py
_base_ = ['./diswot_resnet56_s1-search_cifar100.py']
train_cfg = dict(
    space=dict(type='NASBench201Space', num_classes=100, _delete_=True),
    searcher=dict(type='EvolutionSearcher', population_size=36,
                  num_generations=464, children_per_generation=1,
                  tournament_size=8, removal='aging', _delete_=True))
