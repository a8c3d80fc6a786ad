// Experiments — to be built.
export function ExperimentsPage(_props: { name?: string }) {
  return (
    <section>
      <h1>Experiments</h1>
    </section>
  );
}
