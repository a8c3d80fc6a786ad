// Prompt — to be built.
export function PromptPage(_props: { name: string }) {
  return (
    <section>
      <h1>Prompt</h1>
    </section>
  );
}
