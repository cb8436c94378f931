"""The instructor's policies on top of the automatic grade: deadlines and late penalties,
submission times, overrides and regrades with their audit log (docs/ARCHITECTURE.md)."""
