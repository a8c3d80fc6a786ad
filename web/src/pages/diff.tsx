// Diff — to be built.
export function DiffPage() {
  return (
    <section>
      <h1>Diff</h1>
    </section>
  );
}
