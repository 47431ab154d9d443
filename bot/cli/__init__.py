"""The management CLI's longer commands: admin reports and exports, the demo and its
sample organisation."""
