# avvp-course: thin wrappers. PROFILE=quick (CPU, CI) or PROFILE=full (paper scale, GPU).
PROFILE ?= quick
SEED ?= 0
JOBS ?= 2
GRID_STEPS ?= 0
VENV ?= .venv
PY := $(VENV)/bin/python
DATA := data/synthetic/$(PROFILE)

.PHONY: setup data data-full course html notebooks test test-perturbed nbval-perturbed smoke ci unit nbval sweeps shrink sweeps-ensemble sensitivity controlled bench bench-grid results experiments clean-runs

SETUP_STAMP := $(VENV)/.avvp-setup

setup: $(SETUP_STAMP)  ## create .venv, CPU torch unless an NVIDIA GPU is present, install avvp_lib[dev] (again when the lock changes)

$(SETUP_STAMP): pyproject.toml constraints.txt scripts/setup_env.sh
	@bash scripts/setup_env.sh
	@touch $@

data: setup  ## generate the synthetic benchmark in the official layouts
	$(PY) -m avvp_lib.data.synth --out $(DATA) --profile $(PROFILE) --seed $(SEED)

course: data  ## execute every notebook headlessly with papermill into runs/notebooks/$(PROFILE)
	$(PY) -m avvp_lib.course --profile $(PROFILE) --out runs/notebooks/$(PROFILE)

html: setup  ## the committed notebooks as HTML pages whose math renders offline -> runs/html/index.html
	$(PY) -m avvp_lib.html_export --out runs/html

notebooks: data  ## re-execute the committed notebooks in place (quick profile outputs are committed)
	$(PY) -m avvp_lib.course --profile $(PROFILE) --in-place

unit: data
	$(PY) -m pytest tests -q

nbval: data
	$(PY) -m pytest --nbval notebooks --nbval-sanitize-with tests/nbval_sanitize.cfg -q -p no:cacheprovider

test: data  ## unit tests + nbval over the committed notebooks
	$(PY) -m pytest tests notebooks --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -q -p no:cacheprovider

test-perturbed: data  ## make test as another machine would see it: every training nudged in its last bits (AVVP_NUMERICS=perturbed)
	AVVP_NUMERICS=perturbed $(PY) -m pytest tests notebooks --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -q -p no:cacheprovider

nbval-perturbed: data  ## only the notebooks, under AVVP_NUMERICS=perturbed
	AVVP_NUMERICS=perturbed $(PY) -m pytest --nbval notebooks --nbval-sanitize-with tests/nbval_sanitize.cfg -q -p no:cacheprovider

data-full: setup  ## the full profile's synthetic root (10 000 train videos, about 4 GB)
	$(PY) -m avvp_lib.data.synth --out data/synthetic/full --profile full --seed $(SEED)

smoke: data-full  ## every notebook on the full profile (its models, widths, recipes, data), 2 epochs x 2 batches per training -> runs/smoke/
	AVVP_SMOKE=1 $(PY) -m avvp_lib.course --profile full --out runs/smoke/notebooks --keep-going

ci: data  ## what .ci/run checks (there side by side): make test under the perturbation, then the full-profile smoke
	AVVP_NUMERICS=perturbed $(MAKE) test
	$(MAKE) smoke

sweeps: data  ## the main grid (5 seeds) + every ablation table (3 seeds) -> results/records/, then results/*.csv
	$(PY) -m avvp_lib.sweeps --profile $(PROFILE) --seeds 0 1 2 3 4 --executor local --jobs $(JOBS)
	$(PY) -m avvp_lib.sweeps --profile $(PROFILE) --seeds 0 1 2 --ablations --no-main --executor local --jobs $(JOBS)

shrink: data  ## quick profile: what its smaller models and schedules cost (3 seeds) -> results/09_shrink.csv
	$(PY) -m avvp_lib.sweeps --profile quick --seeds 0 1 2 --no-main --tables 09_shrink --executor local --jobs $(JOBS)

sweeps-ensemble: data  ## CoLeaF's ablation table with each configuration's seeds as one batched model -> results/04_coleaf_ablations_ensemble.csv
	$(PY) -m avvp_lib.sweeps --profile $(PROFILE) --seeds 0 1 2 --ablations --no-main --only coleaf --engine ensemble

sensitivity: data  ## UWAV alpha / W sensitivity (supplementary Fig. A4-A5) -> results/06_uwav_sensitivity.csv
	$(PY) -m avvp_lib.sweeps --profile $(PROFILE) --seeds 0 1 2 --no-main --tables 06_uwav_sensitivity --executor local --jobs $(JOBS)

controlled: data  ## notebook 10: every hypothesis x level x configuration x seed (3) -> results/records, results/10_controlled*.csv
	$(PY) -m avvp_lib.experiments.controlled --profile $(PROFILE) --seeds 0 1 2 --jobs $(JOBS)

bench-grid: setup  ## one epoch of every main-grid cell on the full profile's data (CPU or GPU) -> benchmarks/results/bench_full_*.csv
	$(PY) -m benchmarks.run --profile full --only grid --grid-steps $(GRID_STEPS)

bench: data  ## speed benchmarks -> benchmarks/results
	$(PY) -m benchmarks.run --profile $(PROFILE)

results: setup  ## derive results/*.csv from the run records, then every table and figure; no training
	$(PY) -m avvp_lib.report

experiments: setup  ## list every runnable configuration with the paper row it stands for
	$(PY) -m avvp_lib.experiments --list

clean-runs:
	rm -rf runs
