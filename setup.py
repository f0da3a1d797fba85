from setuptools import find_packages, setup


def read_requirements(path):
    lines = []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-r'):
                lines.append(line)
    return lines


def read_version():
    scope = {}
    with open('mmkd/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmkd',
    version=read_version(),
    description='Knowledge distillation toolbox on mmengine and mmpretrain: '
    'DisWOT, DIH, CAKD and the classic baselines',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs',
                                    'benchmarks', 'projects')),
    include_package_data=True,
    package_data={'mmkd.datasets': ['data/*.npz']},
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        'docs': read_requirements('requirements/docs.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False,
)
