"""The HTTP API and web console (指挥中心工作台) for operators, supervisors and integrations."""
