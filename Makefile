# avvp-course: thin wrappers. PROFILE=quick (CPU, CI) or PROFILE=full (paper scale, GPU).
PROFILE ?= quick
SEED ?= 0
VENV ?= .venv
PY := $(VENV)/bin/python
DATA := data/synthetic/$(PROFILE)

.PHONY: setup data course notebooks test unit nbval sweeps sweeps-ensemble sensitivity bench results clean-runs

setup:  ## create .venv, CPU torch unless an NVIDIA GPU is present, install avvp_lib[dev]
	@bash scripts/setup_env.sh

data: setup  ## generate the synthetic benchmark in the official layouts
	$(PY) -m avvp_lib.data.synth --out $(DATA) --profile $(PROFILE) --seed $(SEED)

course: data  ## execute every notebook headlessly with papermill into runs/notebooks/$(PROFILE)
	$(PY) -m avvp_lib.course --profile $(PROFILE) --out runs/notebooks/$(PROFILE)

notebooks: data  ## re-execute the committed notebooks in place (quick profile outputs are committed)
	$(PY) -m avvp_lib.course --profile $(PROFILE) --in-place

unit: data
	$(PY) -m pytest tests -q

nbval: data
	$(PY) -m pytest --nbval notebooks --nbval-sanitize-with tests/nbval_sanitize.cfg -q -p no:cacheprovider

test: data  ## unit tests + nbval over the committed notebooks
	$(PY) -m pytest tests notebooks --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -q -p no:cacheprovider

sweeps: data  ## ablation tables: every configuration x seeds -> results/*.csv
	$(PY) -m avvp_lib.sweeps --profile $(PROFILE) --seeds 0 1 2 --ablations

sweeps-ensemble: data  ## CoLeaF's ablation table with each configuration's seeds as one batched model -> results/04_coleaf_ablations_ensemble.csv
	$(PY) -m avvp_lib.sweeps --profile $(PROFILE) --seeds 0 1 2 --ablations --no-main --only coleaf --engine ensemble \
	    --threads 1

sensitivity: data  ## UWAV alpha / W sensitivity (supplementary Fig. A4-A5) -> results/06_uwav_sensitivity.csv
	$(PY) -m avvp_lib.methods.uwav --profile $(PROFILE) --seeds 0 1 2 --threads 1 --out results/06_uwav_sensitivity.csv \
	    --variants alpha=0.1 alpha=0.5 alpha=1.0 alpha=1.5 alpha=1.7 alpha=2.0 W=0.1 W=0.25 W=0.5 W=1.0 W=2.0

bench: data  ## speed benchmarks -> benchmarks/results
	$(PY) -m benchmarks.run --profile $(PROFILE)

results: setup  ## regenerate every table and figure from results/*.csv, no training
	$(PY) -m avvp_lib.report

clean-runs:
	rm -rf runs
