// placeholder while the loader is validated
