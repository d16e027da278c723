"""Field normalizers, one module per field. Each public function is pure and cached on its input,
because lead files repeat values (companies, titles, countries) far more than they vary."""
