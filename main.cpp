// Placeholder until the agent is assembled (config, db, engine land first).
int main() {
  return 0;
}
