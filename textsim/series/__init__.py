"""The series' machinery: profiles and recipes, each run's paths and results, the notebook runner, the summary."""
