# The two set-up commands of the README. Each prepares what it needs, then runs.
PORT ?= 8501

.PHONY: run test lint demo-data bench bench-map

run:
	scripts/setup.sh run
	.venv/bin/python -m streamlit run app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false

test:
	scripts/setup.sh test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

demo-data:
	.venv/bin/python -m geo demo-data --out hazard_points.gpkg

# hazmap against PostGIS + pgRouting at province scale (bench/README.md).
bench:
	scripts/setup.sh test
	.venv/bin/python -m bench.pipeline --scale 100 --repeat 3

# The map page against plain streamlit-folium, in Chromium, on the demo district (bench/README.md).
bench-map:
	scripts/setup.sh test
	.venv/bin/python -m bench.map --runs 6
